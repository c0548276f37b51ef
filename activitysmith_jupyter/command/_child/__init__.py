"""Files for the children of `activitysmith run` (see sitecustomize.py)."""
