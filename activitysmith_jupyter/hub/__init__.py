"""The activity core: Activity, run options, snapshots and outcomes, every phone text, stalls, ranks, shutdown and activity()."""
