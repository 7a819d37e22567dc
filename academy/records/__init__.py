"""The learner's learning record: entries a provider verified (and, later, ones learners add)."""
