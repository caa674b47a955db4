# covgap — two commands do all set-up:  `make demo`  and  `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
OUT    ?= out/demo
STAMP  := $(VENV)/.installed

.PHONY: demo test notebooks bench lint clean help

help:
	@echo "make demo       set up .venv, run the embedded SYNTHETIC demo into $(OUT)"
	@echo "make test       set up .venv, run the whole test suite"
	@echo "make notebooks  execute notebooks/ on the demo, write executed copies + HTML to out/notebooks"
	@echo "make bench      run benchmarks/ side by side with peers, write out/bench/*.json and *.md"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[notebooks,scale,test]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/covgap demo --out $(OUT)

test: $(STAMP)
	$(BIN)/lint-imports --no-cache
	$(BIN)/pytest -q --doctest-modules coverage/covgap -p no:cacheprovider
	$(BIN)/pytest -q

notebooks: $(STAMP)
	$(BIN)/python -m covgap.notebooks --out out/notebooks

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py --out out/bench

clean:
	rm -rf out build *.egg-info coverage/*.egg-info
