"""OT distillation of a low-resource query encoder (OPTICAL; docs/architecture.md, core):
bitext, the batched OT loss, the trainable student, held-out evaluation with baselines, the
training job with checkpoints, and the saved student folder."""
