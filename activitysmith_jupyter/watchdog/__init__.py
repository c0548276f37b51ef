"""The watchdog: a small separate process, one per watched process, that ends what a dead process left
open ("Kernel died after 1h 12m"), notices a process stuck outside Python, and samples its resources.

Parts: ``parent`` (what the hub tells it, in the watched process), ``handle`` (the pipe and the spawned
process), ``protocol`` (the pipe's messages), ``main`` (the watchdog process), ``sampler`` (psutil / NVML).
"""
