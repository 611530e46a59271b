"""Risk models: scorecards, contagion (DebtRank), stress. They compute on plain data and
arrays (numpy, scipy, scikit-learn, optbinning) and know nothing of the database; services
feed them and record what they conclude."""
