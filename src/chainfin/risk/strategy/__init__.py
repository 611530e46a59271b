"""Regional chain strategy analytics (issue 17): chain maps, measures, ranking, leads.

Pure computation over a :class:`chainfin.domain.strategy.dataset.RegionDataset`; the services
load the dataset (the bank's market data and its own position) and record nothing here.
"""
