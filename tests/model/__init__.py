"""The model-based test of provisioning (issue 22, "The search for the next one"): a hypothesis state
machine that draws interleavings of gcwm's use cases, worker processes and Genesys faults against a
real emulator and a real database, and checks invariants against both after every step.

`world` starts the real things of one example, `observe` reads them, `invariants` judges what was
read, `machine` draws the steps; `test_model_based` runs it with CI's short budget and
`bench/explore.py` with a long one."""
