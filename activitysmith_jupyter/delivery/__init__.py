"""Background delivery: the dispatcher, its queue, its resend plan and the update policy."""
