"""The Parafraim API: wire models shared by the client and the local engine."""
