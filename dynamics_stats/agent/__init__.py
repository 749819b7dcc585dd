"""The agent: the analysis pipeline, recommendations, confidence and risk."""
