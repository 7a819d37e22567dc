"""The learner's portfolio: entries (verified by a provider or self-recorded), evidence files,
reflections, regulator views, exports, credentials, share links and the learner's data rights."""
