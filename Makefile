# The two commands of the README, and the pieces they are made of.
SHELL := /bin/bash
PY := .venv/bin/python
VITEST := npx vitest run

.PHONY: demo test bootstrap check unit toolkit-test integration schemas proto bench-overhead bench-serve bench-scale

## demo: the main job — local Temporal dev server, local artifacts, the digits example, v1.0.0 to packaged
demo: bootstrap
	node --import tsx cli/index.ts demo $(ARGS)

## test: lint and types (TypeScript: tsc, eslint; the toolkit: ruff, mypy), fresh schemas, unit, toolkit (real torch + ONNX Runtime), integration (real Temporal)
test: bootstrap check unit toolkit-test integration

bootstrap:
	@scripts/bootstrap.sh

check:
	npx tsc --noEmit -p tsconfig.json
	npx eslint .
	cd toolkit && ../$(PY) -m ruff check .
	cd toolkit && ../$(PY) -m mypy

unit:
	$(VITEST) --project unit

toolkit-test:
	$(PY) -m pytest -q toolkit/tests

integration:
	scripts/s3-server/install.sh >/dev/null
	scripts/browser/install.sh >/dev/null
	$(VITEST) --project integration

schemas:
	node --import tsx scripts/generate-schemas.ts

## proto: the serving runtime's compiled Open Inference Protocol gRPC API (read at run time)
proto:
	$(PY) -m grpc_tools.protoc -Itoolkit/modelship_toolkit/serve/proto \
		--descriptor_set_out=toolkit/modelship_toolkit/serve/proto/inference.binpb toolkit/modelship_toolkit/serve/proto/inference.proto

bench-overhead: bootstrap
	node --import tsx bench/overhead/run.ts

## bench-scale: 100 releases at once on the real cluster (PostgreSQL) and on the dev server
bench-scale: bootstrap
	node --import tsx bench/scale/run.ts $(ARGS)
