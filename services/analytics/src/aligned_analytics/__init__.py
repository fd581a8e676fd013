"""Analytics: metric sync from connected accounts, partitioned storage, SQL reports, goals, plans."""
