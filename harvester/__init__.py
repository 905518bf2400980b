"""arxiv-harvester: keeps arXiv author profiles true and current in a SQL database."""

__version__ = "0.1.0"
