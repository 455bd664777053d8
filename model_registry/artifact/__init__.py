"""Reading, checking and writing XGBoost model artifacts without trusting them."""
