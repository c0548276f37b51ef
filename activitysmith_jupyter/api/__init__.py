"""The SDK-compatible client: ActivitySmith / AsyncActivitySmith, their resources, requests, retry, settings and transport."""
