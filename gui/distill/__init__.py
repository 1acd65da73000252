"""The Distill screen: OT distillation of a low-resource query encoder."""
