#!/usr/bin/env bash
# `npm run pulumi -- <arguments>`: the Pulumi CLI on the same state and passphrase as `npm run up`, from any shell:
# every `pulumi …` command in the README is written this way, so a fresh shell never asks for a Pulumi Cloud login.
#   npm run pulumi -- config set location westeurope
#   npm run pulumi -- stack output
#   npm run pulumi -- preview --policy-pack policy
# State: PULUMI_BACKEND_URL when set (CI sets its own), else the local folder .pulumi-state/ in this checkout.
# Passphrase: nothing secret is in this stack's config or state, so the local backend's passphrase is empty unless
# PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) is set.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v pulumi >/dev/null || {
  echo "The Pulumi CLI is missing: install it (https://www.pulumi.com/docs/iac/download-install/) and run again." >&2
  exit 1
}
if [ -z "${PULUMI_BACKEND_URL:-}" ]; then
  mkdir -p .pulumi-state
  export PULUMI_BACKEND_URL="file://$PWD/.pulumi-state"
fi
if [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
  export PULUMI_CONFIG_PASSPHRASE=${PULUMI_CONFIG_PASSPHRASE-}
fi
exec pulumi "$@"
