"""The command line: `activitysmith run`, its child bars and the quick start."""
