# qinling-jobs: the two commands are `make run` and `make test`; the rest are their parts.
SHELL := /bin/bash
.DEFAULT_GOAL := help
CLUSTER_DIR := .cluster
NODE_MODULES_STAMP := node_modules/.package-lock.json
# The Node.js that runs everything is the one package.json pins (the npm package `node`, see
# docs/adr/0007-node-26.md); the machine's own Node.js only bootstraps `npm ci`.
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)
# Benchmark sizes (make bench-operator SIZES=1000)
SIZES ?= 1000,10000
# Extra kube-controller-manager flags for a measurement (make cluster-up CM_ARGS="--v=4")
CM_ARGS ?=
# make bench-scale: the stages one namespace grows through
SIZES_SCALE ?= 1000,10000,100000
# make bench-skew: jobs per path, ticks and rounds (SKEW_ARGS="--jobs 100 --ticks 2")
SKEW_ARGS ?=


.PHONY: system-deps
.PHONY: help deps build lint unit crondiff tools cluster-up cluster-down cluster-status run test journeys crd bench-operator bench-api clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

$(NODE_MODULES_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund

deps: $(NODE_MODULES_STAMP) ## install npm dependencies from the lockfile

build: deps ## compile TypeScript into dist/
	rm -rf dist && npx tsc -p tsconfig.json

lint: deps ## eslint and prettier
	npx eslint . && npx prettier --check .

unit: build ## unit tests (pure logic, no cluster)
	npx mocha --config .mocharc.unit.json

crondiff: build ## differential test of our schedule math against robfig/cron (the CronJob controller's parser)
	@bash e2e/crondiff/build.sh >/dev/null
	npx mocha --enable-source-maps 'dist/e2e/crondiff/*.test.js'

tools: ## build (or reuse from cache) etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, helm
	@bash e2e/cluster/build-tools.sh >/dev/null

cluster-up: build tools ## start the local control plane and the process kubelet (idempotent)
	node dist/e2e/cluster/main.js up --dir $(CLUSTER_DIR) --tools-dir "$$(bash e2e/cluster/build-tools.sh 2>/dev/null)" \
	  --controller-manager-args="$(CM_ARGS)"

cluster-down: ## stop the local control plane; leaves no process or port behind
	@if [ -f dist/e2e/cluster/main.js ]; then node dist/e2e/cluster/main.js down --dir $(CLUSTER_DIR); fi

cluster-status: ## is the local control plane running and healthy?
	node dist/e2e/cluster/main.js status --dir $(CLUSTER_DIR)

run: build ## the product and a demo runtime on the local control plane (or KUBECONFIG's cluster); Ctrl-C stops it
	@node dist/dev/run.js $(RUN_ARGS)

journeys: build crd ## journeys against the running local control plane (parallel, then the serial ones)
	KUBECONFIG=$(CURDIR)/$(CLUSTER_DIR)/kubeconfig npx mocha --config .mocharc.journeys.json
	KUBECONFIG=$(CURDIR)/$(CLUSTER_DIR)/kubeconfig npx mocha --config .mocharc.serial.json

system-deps: ## Debian packages the tests need (iproute2, the OpenStack client), when missing
	@bash e2e/system-deps.sh

test: system-deps lint unit crondiff ## unit tests, then the journeys on a fresh local control plane, torn down even on failure
	@$(MAKE) --no-print-directory cluster-up
	@status=0; $(MAKE) --no-print-directory journeys || status=$$?; \
	  $(MAKE) --no-print-directory cluster-down; exit $$status

KUBECTL = $(CLUSTER_DIR)/bin/kubectl --kubeconfig $(CLUSTER_DIR)/kubeconfig
crd: ## install the QinlingJob CRD on the local cluster; wait until the quota controller counts QinlingJobs
	$(KUBECTL) apply -f crds/qinlingjob.yaml
	$(KUBECTL) wait --for=condition=Established --timeout=60s crd/qinlingjobs.qinling.io
	@# A ResourceQuota that limits QinlingJobs refuses every create of one until the quota
	@# controller's discovery has seen the CRD (up to 30 s): a probe quota says when it has.
	@$(KUBECTL) apply -f e2e/cluster/quota-probe.yaml >/dev/null
	$(KUBECTL) -n qinling-quota-probe wait --timeout=120s resourcequota/probe \
	  --for=jsonpath='{.status.used.count/qinlingjobs\.qinling\.io}'=0
	@$(KUBECTL) delete namespace qinling-quota-probe >/dev/null

bench-operator: cluster-up crd ## operator convergence for 1,000 and 10,000 jobs vs plain CronJobs (SIZES=...)
	KUBECONFIG=$(CURDIR)/$(CLUSTER_DIR)/kubeconfig node dist/e2e/bench/operator.js --sizes $(SIZES)

bench-api: cluster-up crd ## facade vs direct apiserver latency with 1,000 and 10,000 jobs (SIZES=...)
	KUBECONFIG=$(CURDIR)/$(CLUSTER_DIR)/kubeconfig node dist/e2e/bench/api.js --sizes $(SIZES)

.PHONY: bench-skew
bench-skew: cluster-up crd ## lateness and lost runs: 200 jobs on one minute (CronJob-fired), 200 one-shots on one second (operator-fired)
	KUBECONFIG=$(CURDIR)/$(CLUSTER_DIR)/kubeconfig node dist/e2e/bench/skew.js $(SKEW_ARGS)

.PHONY: dashboard-pngs
dashboard-pngs: cluster-up crd ## the chart's Grafana dashboard drawn from a real scrape (6 min) into docs/dashboard/*.png
	@command -v rsvg-convert >/dev/null || { sudo=""; [ "$$(id -u)" -eq 0 ] || sudo=sudo; $$sudo apt-get install -y -qq librsvg2-bin >/dev/null; }
	KUBECONFIG=$(CURDIR)/$(CLUSTER_DIR)/kubeconfig node dist/e2e/bench/dashboard.js

.PHONY: bench-scale
bench-scale: cluster-up crd ## 1,000 -> 10,000 -> 100,000 jobs in one namespace: creation, convergence, memory per job, facade p99 (SIZES_SCALE=...); ends with cluster-down
	KUBECONFIG=$(CURDIR)/$(CLUSTER_DIR)/kubeconfig node dist/e2e/bench/scale.js --keep --sizes $(SIZES_SCALE)
	@# 100,000 jobs are wiped with the cluster's store in a second; deleted one by one, in about 20 minutes.
	$(MAKE) cluster-down

.PHONY: bench-list
bench-list: build ## one unpaged list of 10,000 jobs of 64 KiB: facade RSS and /healthz latency meanwhile (no cluster)
	node dist/e2e/bench/list.js --jobs 10000 --input-bytes 65536

.PHONY: bench-wake
bench-wake: build ## 200 processes woken on one second call a loopback runtime: the invoker, and bare fetch and node:http for reference (no cluster)
	node dist/e2e/bench/wake.js

.PHONY: bench-keystone
bench-keystone: system-deps cluster-up crd ## cost of a cached Keystone token per request vs static tokens (real Keystone)
	KUBECONFIG=$(CURDIR)/$(CLUSTER_DIR)/kubeconfig node dist/e2e/bench/keystone.js

clean: cluster-down ## remove build outputs and cluster state (not the binary cache)
	rm -rf dist $(CLUSTER_DIR)
