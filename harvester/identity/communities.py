"""Communities of the co-author graph: papers linked by the co-authors they share, where a
co-author who only *bridges* two otherwise separate bodies of work does not merge them.

Two people of one name in one field can have a collaborator in common (the namesake corpus's
:data:`~arxiv_lookalike.namesakes.BRIDGE`), and a common co-author name can be two people
(its ``COLLISION``); a unique name whose work moves to another field keeps the co-authors who
move with her. The difference is in the shape of the graph, not in the field:

- take a co-author away: if their papers still hang together through others, they bind
  nothing new;
- if their papers fall apart into several *bodies* (:data:`.model.BODY_MIN` papers or more,
  linked by co-authors of their own), the co-author binds a body only when they are on at
  least :data:`.model.BRIDGE_SHARE` of its papers: a collaborator of the whole new line of
  work, not one met now and then by someone else. Bodies the co-author is only a visitor
  of stay apart;
- text may bring a small body met through a visitor back (a unique name's side project,
  in the same field), never a rival one (:data:`.model.RIVAL_SHARE` of the other's size);
- papers of smaller groups (a paper or two, in any field) are bound by the co-author: a
  shared co-author is the strongest sign there is; unless the co-author is a bridge
  between bodies: then whose they are is for text to tell.

Bridges are found one name at a time against the graph without the bridges found so far,
until no new one appears (two bridges between the same bodies are found one after the other).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from .model import BODY_MIN, BRIDGE_SHARE, RIVAL_SHARE

__all__ = ["Communities"]


class Communities:
    """The co-author communities of ``rows`` of a co-author incidence matrix (papers x
    names, 0/1), and the pairs of communities a bridge was kept from merging.

    Only a name that is an articulation point of the paper-name graph can split its papers
    (networkx finds those in linear time); each of them is then tried as a bridge.
    """

    def __init__(self, coauthors: Any, rows: Any) -> None:
        self.rows = rows
        self.incidence = sp.csc_matrix(coauthors[rows], dtype=np.float64)
        self.incidence.sort_indices()
        self.cut: list[tuple[int, Any]] = []
        """(name, papers): the co-author's links to those papers are not counted."""
        self._find_bridges()
        self.labels = self._labels(self._links())
        self.apart = self._kept_apart()

    def groups(self) -> list[Any]:
        """The communities, as sorted arrays of the given rows."""
        order = np.argsort(self.labels, kind="stable")
        cuts = np.flatnonzero(np.diff(self.labels[order])) + 1
        return [self.rows[part] for part in np.split(order, cuts)] if len(self.rows) else []

    def _links(self) -> Any:
        """Paper x paper: the co-authors two papers share, cut links left out."""
        links = sp.csr_matrix(self.incidence @ self.incidence.T)
        links.eliminate_zeros()
        return links

    @staticmethod
    def _labels(links: Any) -> Any:
        return connected_components(links, directed=False)[1]

    def _find_bridges(self) -> None:
        while True:
            found = False
            links = self._links()
            for name in self._splitting_names():
                loose = self._loose(name, links)
                if len(loose):
                    self._cut(name, loose)
                    links = self._links()
                    found = True
            if not found:
                return

    def _splitting_names(self) -> list[int]:
        """Names whose removal leaves two pieces of :data:`.model.BODY_MIN` papers or more
        in the paper-name graph: articulation points, weighed on the block-cut tree
        (networkx's biconnected components), so only those are tried as bridges."""
        import networkx as nx  # only when bodies are looked for

        graph = nx.Graph()
        for name in range(self.incidence.shape[1]):
            papers = self._papers_of(name)
            if len(papers) >= 2:
                graph.add_edges_from((("n", name), ("p", int(p))) for p in papers)
        blocks = [frozenset(b) for b in nx.biconnected_components(graph)]
        joints = set(nx.articulation_points(graph))
        tree = nx.Graph()
        weight: dict[Any, int] = {}
        for k, block in enumerate(blocks):
            weight[("b", k)] = sum(1 for n in block if n[0] == "p" and n not in joints)
            tree.add_node(("b", k))
            tree.add_edges_from((("b", k), n) for n in block if n in joints)
        weight.update({n: int(n[0] == "p") for n in joints})
        return sorted(n[1] for n in _heavy_joints(tree, weight) if n[0] == "n")

    def _papers_of(self, name: int) -> Any:
        start, end = self.incidence.indptr[name], self.incidence.indptr[name + 1]
        live = self.incidence.data[start:end] != 0
        return self.incidence.indices[start:end][live]

    def _cut(self, name: int, papers: Any) -> None:
        start, end = self.incidence.indptr[name], self.incidence.indptr[name + 1]
        hit = np.isin(self.incidence.indices[start:end], papers)
        self.incidence.data[start:end][hit] = 0.0
        self.cut.append((name, papers))

    def _loose(self, name: int, links: Any) -> Any:
        """The papers of ``name`` in bodies it only visits: without it, its papers fall
        apart into bodies; its home is the one it is on most often; another body it is on
        less than :data:`.model.BRIDGE_SHARE` of is loose (see the module docstring)."""
        papers = self._papers_of(name)
        if len(papers) < 2:
            return papers[:0]
        column = sp.csr_matrix(self.incidence[:, [name]])
        without = sp.csr_matrix(links - column @ column.T)
        without.eliminate_zeros()
        labels = self._labels(without)
        sizes = np.bincount(labels)
        on = np.bincount(labels[papers], minlength=len(sizes))
        bodies = [int(p) for p in np.unique(labels[papers]) if sizes[p] >= BODY_MIN]
        if len(bodies) < 2:
            return papers[:0]
        home = max(bodies, key=lambda p: (on[p], sizes[p], -p))
        loose = [p for p in bodies if p != home and on[p] < BRIDGE_SHARE * sizes[p]]
        if not loose:
            return papers[:0]
        small = [int(p) for p in np.unique(labels[papers]) if sizes[p] < BODY_MIN]
        return papers[np.isin(labels[papers], loose + small)]

    def _kept_apart(self) -> set[tuple[int, int]]:
        """Pairs of community labels a bridge was cut between (smaller label first) whose
        smaller side is a rival (:data:`.model.RIVAL_SHARE` of the larger or more): text must
        not merge them back. A smaller body met through a visitor may still join its
        field's body by text: the side project of a unique name, not a namesake."""
        sizes = np.bincount(self.labels)
        apart: set[tuple[int, int]] = set()
        for name, loose in self.cut:
            kept = {int(x) for x in self.labels[self._papers_of(name)]}
            gone = {int(x) for x in self.labels[loose]}
            apart |= {
                (min(a, b), max(a, b))
                for a in kept
                for b in gone
                if a != b and min(sizes[a], sizes[b]) >= RIVAL_SHARE * max(sizes[a], sizes[b])
            }
        return apart


def _heavy_joints(tree: Any, weight: dict[Any, int]) -> set[Any]:
    """The cut nodes of a block-cut ``tree`` with two pieces or more that weigh
    :data:`.model.BODY_MIN` or more once the node is taken away."""
    import networkx as nx

    heavy: set[Any] = set()
    for part in nx.connected_components(tree):
        root = min(part)
        below: dict[Any, int] = {}
        parent = dict(nx.bfs_predecessors(tree, root))
        for node in nx.dfs_postorder_nodes(tree, root):
            below[node] = weight[node] + sum(below[c] for c in tree[node] if parent.get(c) == node)
        total = below[root]
        for node in part:
            if node[0] == "b":
                continue
            pieces = [below[c] for c in tree[node] if parent.get(c) == node]
            if node != root:
                pieces.append(total - below[node])
            if sum(1 for w in pieces if w >= BODY_MIN) >= 2:
                heavy.add(node)
    return heavy
