#!/usr/bin/env bash
# `npm run up [-- <stack>]`: provisions the stack (default: dev) with the Pulumi CLI, on a local file state backend
# unless PULUMI_BACKEND_URL says otherwise. Needs the Pulumi CLI and an Azure CLI login (az login).
set -euo pipefail
cd "$(dirname "$0")/.."
stack=${1:-dev}

command -v pulumi >/dev/null || { echo "The Pulumi CLI is missing: install it (https://www.pulumi.com/docs/iac/download-install/) and run again." >&2; exit 1; }
command -v az >/dev/null || { echo "The Azure CLI is missing: install it and run 'az login', then run again." >&2; exit 1; }
az account show >/dev/null 2>&1 || { echo "The Azure CLI is not logged in: run 'az login' (and 'az account set -s <subscription>'), then run again." >&2; exit 1; }

# State stays on this machine by default. Nothing secret is in this stack's config or state, so the local backend's
# passphrase may be empty; set PULUMI_CONFIG_PASSPHRASE yourself if your organisation requires one.
if [ -z "${PULUMI_BACKEND_URL:-}" ]; then
  mkdir -p .pulumi-state
  export PULUMI_BACKEND_URL="file://$PWD/.pulumi-state"
fi
export PULUMI_CONFIG_PASSPHRASE=${PULUMI_CONFIG_PASSPHRASE-}

pulumi stack select --create "$stack"
pulumi up --stack "$stack"
