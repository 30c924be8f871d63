"""sluice from Python: training sets, versions, lineage and online features in-process
(`Project`), and the HTTP feature API of `sluice serve` (`Client`). See docs/python.md."""

from ._sluice import Error
from .client import Client, ClientError
from .project import Project

__all__ = ["Client", "ClientError", "Error", "Project"]
