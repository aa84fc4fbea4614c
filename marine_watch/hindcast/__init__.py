"""Real storm records through the pipeline on a simulated clock: case, run, outcome, score, plot."""
