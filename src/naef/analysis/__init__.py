"""Risk metrics and ratings, issuance sizing, stress tests and sensitivity analysis."""
