"""Regional chain strategy (issue 17): the inputs a head office analyses and the results it reads.

Pure records only. ``dataset`` holds what goes in (a region's firms, links, monthly trade
flows, chains, optional financials, policy lists and input-output shares, and the bank's own
position); ``results`` holds what comes out (chain maps, measures, rankings, leads);
``regions`` names the regions (京津冀, 长三角, 大湾区 or any GB/T 2260 province or
prefecture); ``segments`` the segment tree of each kind of chain; ``criteria`` the measures a
ranking weighs. The analytics live in :mod:`chainfin.risk.strategy`, loading and storing in
:mod:`chainfin.services.strategy`.
"""
