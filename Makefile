# The two commands (see README.md):
#   make run    install what is missing, build, and run the main job
#   make test   install what is missing, build, and run every test
PRESET ?= default
BUILD  ?= build

.PHONY: run test deps build clean

deps:
	@scripts/install-deps.sh

build: deps
	@cmake --preset $(PRESET) > /dev/null
	@cmake --build --preset $(PRESET)

run: build
	@scripts/run-main-job.sh $(BUILD)

test: build
	@ctest --preset $(PRESET)

clean:
	rm -rf $(BUILD)
