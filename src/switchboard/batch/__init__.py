"""Batch scoring (`switchboard batch-score`): the decision model over files, in-process or
on Spark."""
