#!/usr/bin/env bash
# `npm run up [-- <stack>]`: provisions the stack (default: dev) with the Pulumi CLI, through scripts/pulumi.sh: a local
# file state backend (.pulumi-state/) unless PULUMI_BACKEND_URL says otherwise. Needs the Pulumi CLI and an Azure CLI
# login (az login).
set -euo pipefail
cd "$(dirname "$0")/.."
stack=${1:-dev}

command -v pulumi >/dev/null || {
  echo "The Pulumi CLI is missing: install it (https://www.pulumi.com/docs/iac/download-install/) and run again." >&2
  exit 1
}
command -v az >/dev/null || {
  echo "The Azure CLI is missing: install it and run 'az login', then run again." >&2
  exit 1
}
az account show >/dev/null 2>&1 || {
  echo "The Azure CLI is not logged in: run 'az login' (and 'az account set -s <subscription>'), then run again." >&2
  exit 1
}

bash scripts/pulumi.sh stack select --create "$stack"
bash scripts/pulumi.sh up --stack "$stack"
