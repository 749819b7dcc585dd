"""Real-time monitoring inside training (Lightning and Hugging Face callbacks)."""
