"""What the service reports about itself: Prometheus metrics, one log line a call, readiness."""
