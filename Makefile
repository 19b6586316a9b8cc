# The user's entry point. `make run` and `make test` set up everything they need on a fresh
# machine (a virtualenv in .venv, checkov in its own .venv-checkov, Chromium for the browser test).
SHELL := /bin/bash
.DEFAULT_GOAL := help

ENV ?= dev
PORT ?= 8080
ARCH ?= arm64
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
CHECKOV_VENV := .venv-checkov
CHECKOV := $(CHECKOV_VENV)/bin/checkov
CHECKOV_VERSION := 3.3.30
PYTEST_ARGS ?=

# Terraform: never phone home; use the provider mirror when this machine has one, the registry
# otherwise (a networked machine works unchanged).
TERRAFORM ?= terraform
TF_PLUGIN_MIRROR ?= /opt/tf-plugins
TF_RC := build/terraform.rc
export CHECKPOINT_DISABLE := 1
ifneq ($(wildcard $(TF_PLUGIN_MIRROR)),)
export TF_CLI_CONFIG_FILE := $(CURDIR)/$(TF_RC)
endif
ENV_DIR := environments/$(ENV)

.PHONY: constraints help install run test test-fast lint fmt build validate plan apply destroy bench clean browser-deps checkov-deps tf-config rotate-api-key rollback rollback-build

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip==25.3
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev,bench]'
	touch $@

install: $(STAMP) ## Create .venv and install the pinned dependencies

$(CHECKOV): 
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet checkov==$(CHECKOV_VERSION)

checkov-deps: $(CHECKOV)

# Debian's Chromium for the browser test (Playwright drives it; no browser download).
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "Chromium is missing: install Debian's 'chromium' package (sudo apt-get install chromium)"; exit 1; fi; }

$(TF_RC):
	@mkdir -p $(@D)
	@printf 'provider_installation {\n  filesystem_mirror {\n    path    = "%s"\n    include = ["registry.terraform.io/hashicorp/*"]\n  }\n}\n' "$(TF_PLUGIN_MIRROR)" > $@

tf-config: $(if $(wildcard $(TF_PLUGIN_MIRROR)),$(TF_RC))

run: install ## Start the whole service locally (moto stands in for AWS) on 127.0.0.1:$(PORT)
	PORT=$(PORT) $(PY) -m imgsvc_local

test: install checkov-deps browser-deps tf-config ## Install everything and run every test
	CHECKOV=$(CURDIR)/$(CHECKOV) $(PY) -m pytest $(PYTEST_ARGS)

test-fast: install ## Only the Python unit tests (no HTTP, Terraform or browser)
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

lint: install checkov-deps tf-config ## ruff, mypy, terraform fmt -check, checkov
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(TERRAFORM) fmt -check -recursive
	BC_SKIP_MAPPING=TRUE CKV_SKIP_PACKAGE_UPDATE_CHECK=TRUE $(CHECKOV) --skip-download --quiet --compact -d modules -d environments --framework terraform --skip-path /examples/

fmt: install ## Format Python and Terraform
	$(VENV)/bin/ruff check --fix-only .
	$(VENV)/bin/ruff format .
	$(TERRAFORM) fmt -recursive

build: install ## Build the Lambda artifacts into dist/ (deterministic)
	$(PY) build.py --arch $(ARCH)

validate: install tf-config ## terraform fmt -check + init + validate of every module and environment (in throwaway copies)
	$(PY) -m pytest -q -p no:cacheprovider tests/terraform/test_static.py -k "formatted or validate"

# The stage roots; environments/stack is the composition they call, not a stage.
STAGES := $(filter-out stack,$(notdir $(wildcard environments/*)))

# The targets that take ENV check it, and its backend.hcl, while make reads this file: before
# anything is built (`make build` takes minutes), and also under -n and -j.
ifneq ($(filter plan apply destroy rotate-api-key rollback,$(MAKECMDGOALS)),)
ifneq ($(words $(ENV)) $(words $(filter $(STAGES),$(ENV))),1 1)
$(error ENV=$(ENV) is not a stage: use one of $(STAGES))
endif
ifeq ($(wildcard $(ENV_DIR)/backend.hcl),)
$(error Missing $(ENV_DIR)/backend.hcl: copy $(ENV_DIR)/backend.hcl.example and fill in your state bucket (docs/deploy.md))
endif
endif

# This deployment's values (docs/deploy.md), when the stage has them. apply takes none: it applies
# the saved plan, which holds them.
TF_VAR_FILE = $(if $(wildcard $(ENV_DIR)/$(ENV).tfvars),-var-file=$(ENV).tfvars)

plan: build tf-config ## terraform plan for ENV (dev|prod); needs backend.hcl and AWS credentials
	$(TERRAFORM) -chdir=$(ENV_DIR) init -input=false -backend-config=backend.hcl
	$(TERRAFORM) -chdir=$(ENV_DIR) plan -input=false $(TF_VAR_FILE) $(PLAN_ARGS) -out=tfplan

apply: plan ## terraform apply the plan for ENV
	$(TERRAFORM) -chdir=$(ENV_DIR) apply -input=false tfplan

destroy: build tf-config ## terraform destroy ENV (reads the built artifacts like plan)
	$(TERRAFORM) -chdir=$(ENV_DIR) init -input=false -backend-config=backend.hcl
	$(TERRAFORM) -chdir=$(ENV_DIR) destroy -input=false $(TF_VAR_FILE)

# -- Repairs (docs/operations.md) ------------------------------------------------------------
# Extra arguments for `terraform plan` (the targets below pass theirs through `make apply`).
PLAN_ARGS ?=
# The stage's API key, as the stage root -> environments/stack -> modules/api address it.
API_KEY_ADDRESS := module.stack.module.api.aws_api_gateway_api_key.this[0]
# `make rollback`: the release to go back to (a tag or commit), and where its artifacts go.
REF ?=
ROLLBACK_DIR ?= build/rollback/$(ENV)
ROLLBACK_BUILD_ARGS ?=

rotate-api-key: ## Replace ENV's API key (the old one stops working at once); print how to read the new one
	$(MAKE) apply ENV=$(ENV) PLAN_ARGS="'-replace=$(API_KEY_ADDRESS)'"
	@echo "The new key: terraform -chdir=$(ENV_DIR) output -raw api_key"

# Builds are deterministic, so REF's sources give exactly the artifacts REF deployed.
rollback-build: install ## Build the Lambda artifacts of git REF into ROLLBACK_DIR/dist
	@test -n "$(REF)" || { echo "Name the release to go back to: REF=<tag or commit> (docs/operations.md)" >&2; exit 2; }
	@git rev-parse --verify --quiet "$(REF)^{commit}" >/dev/null || { echo "REF=$(REF) is not a commit of this repository (git fetch --tags?)" >&2; exit 2; }
	rm -rf "$(abspath $(ROLLBACK_DIR))" && mkdir -p "$(abspath $(ROLLBACK_DIR))/src"
	git archive --format=tar "$(REF)" | tar -x -C "$(abspath $(ROLLBACK_DIR))/src"
	$(PY) "$(abspath $(ROLLBACK_DIR))/src/build.py" --arch $(ARCH) --dist "$(abspath $(ROLLBACK_DIR))/dist" --wheel-dir "$(CURDIR)/build/wheels/rollback-$(ARCH)" $(ROLLBACK_BUILD_ARGS)
	git rev-parse "$(REF)^{commit}" > "$(abspath $(ROLLBACK_DIR))/dist/REF"

rollback: rollback-build ## Deploy the Lambda code of git REF to ENV (today's Terraform): make rollback ENV=prod REF=v1.2.0
	$(MAKE) apply ENV=$(ENV) PLAN_ARGS="'-var=artifacts_dir=$(abspath $(ROLLBACK_DIR))/dist'"

bench: install ## Resizer, GIF and cold-start benchmark (ratios against baselines, same run), then the cost model and a day's traffic simulation from its figures
	$(PY) -m bench

clean: ## Remove build outputs (keeps the virtualenvs)
	rm -rf dist build .pytest_cache .mypy_cache .ruff_cache

constraints: ## Re-resolve and pin every dependency into constraints.txt
	rm -rf $(VENV) && $(PYTHON) -m venv $(VENV) && $(PY) -m pip install --quiet --upgrade pip==25.3
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	{ echo "# Every package the dev/bench virtualenv resolves to, pinned (regenerate: make constraints)."; \
	  $(PY) -m pip freeze --exclude-editable | grep -iv '^serverless-image-service'; } > constraints.txt
	touch $(STAMP)
