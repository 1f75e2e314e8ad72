"""The Parafraim API: the async client, its wire models (shared with the local engine), and the
error mapping, retries, SSE decoding, waits, downloads and account look-ups around it."""
