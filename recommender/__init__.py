"""Chat-Rec's recommender: catalog, LightFM hybrid model, evaluation and the serving API."""
