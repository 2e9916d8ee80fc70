# Agglomeration restricted to the edges of a connectivity graph (ward,
# complete, average), and the passes over a finished tree (cutting it into
# clusters, the heads of a partial forest, the sizes of the subtrees). Cost
# of the agglomeration: O(E log E) heap operations over the E edges of the
# graph and of the merged clusters (each merge pushes one entry
# per neighbour of the new cluster), O(n_samples + E) memory (plus
# n_nodes x n_features float64 centroid sums for ward); the tree passes are
# O(n_nodes).
#
# Algorithm: the classic "stored matrix" agglomeration on a sparse graph
# (Murtagh, "A survey of recent advances in hierarchical clustering
# algorithms", The Computer Journal 26(4), 1983; Lance and Williams, "A
# general theory of classificatory sorting strategies", 1967): a priority
# queue of candidate merges, one per edge between two live clusters; the
# smallest is merged into a new node k, whose edges to the merged pair's
# neighbours are computed and pushed. Stale entries (an end already merged)
# are not removed but skipped when they reach the top (lazy deletion).
#
# Invariants.
# - Node ids: samples are 0..n_samples-1, the k-th merge creates node
#   n_samples + k; a node's id is larger than its children's, so parent[c] >
#   c for every merged c and a pass in decreasing id visits parents first.
# - live[c] != 0 exactly while c is a cluster not yet merged (for complete /
#   average it holds the cluster's size, as scikit-learn's used_node).
# - A neighbour list (complete / average) is sorted by node id, without
#   duplicates: a new node k is larger than every id already in any list, so
#   adding it is an append, and the merge of two lists is a linear merge.
# - The heap is Python's heapq, step for step (heappush, heappop, heapify
#   with the same sift-up / sift-down moves): scikit-learn's linkage_tree
#   compares its heap entries by weight alone, so which of several equal
#   weights comes out first depends on those moves, and reproducing them
#   gives the same children_ as scikit-learn, ties included. Ward compares
#   (weight, a, b) lexicographically, as scikit-learn's tuples do: a total
#   order, so the moves do not matter there.
# - Ward distances: the increase of inertia |a||b|/(|a|+|b|) ||c_a - c_b||^2
#   from the float64 centroid sums, each difference of means squared and
#   summed in feature order, as scikit-learn's compute_ward_dist does; this
#   module is built without reassociation or contraction (meson.build) so
#   that equal increases stay equal and ties resolve as scikit-learn's.
# NaN policy: none; the estimator refuses non-finite data before any pass.
#
# Measured (2 cores shared with other jobs, load average about 8;
# OMP_NUM_THREADS=1; scikit-learn 1.9.1): make_blobs(20_000, 16, centers=20,
# random_state=0), kneighbors_graph(X, 10), n_clusters=20, children_ and
# labels_ identical to scikit-learn's: fit ward 10.4 s against 25.2 s,
# complete 16.4 s against 64.9 s, average 28.5 s against 114.4 s, single
# 11.1 s against 12.3 s. Of ward's 14 s under the profiler, 9.7 s complete
# the graph's 20 components (190 pairwise_distances blocks, scikit-learn's
# rule, the same cost for both) and 4.6 s are this module's agglomeration.

from cython cimport floating
from libc.stdlib cimport malloc, realloc, free
from libc.math cimport fmax

from _interrupt cimport Poll, poll_init, poll_signals, raise_if_stopped

import numpy as np

ctypedef Py_ssize_t intp_t


###############################################################################
# Python's heapq on a growable array of edges


cdef struct Edge:
    double weight
    intp_t a
    intp_t b


cdef struct Heap:
    Edge* items
    intp_t size
    intp_t capacity
    bint lexicographic  # compare (weight, a, b), else weight alone


cdef inline bint edge_lt(Heap* h, Edge x, Edge y) noexcept nogil:
    if not h.lexicographic or x.weight != y.weight:
        return x.weight < y.weight
    if x.a != y.a:
        return x.a < y.a
    return x.b < y.b


cdef int heap_reserve(Heap* h, intp_t capacity) except -1 nogil:
    cdef Edge* items
    if capacity <= h.capacity:
        return 0
    capacity = max(capacity, 2 * h.capacity, 16)
    items = <Edge*> realloc(h.items, capacity * sizeof(Edge))
    if items == NULL:
        with gil:
            raise MemoryError()
    h.items = items
    h.capacity = capacity
    return 0


cdef inline void sift_down(Heap* h, intp_t start, intp_t pos) noexcept nogil:
    # heapq._siftdown: move the item at pos up towards start while smaller
    # than its parent.
    cdef Edge item = h.items[pos]
    cdef intp_t parent
    while pos > start:
        parent = (pos - 1) >> 1
        if not edge_lt(h, item, h.items[parent]):
            break
        h.items[pos] = h.items[parent]
        pos = parent
    h.items[pos] = item


cdef inline void sift_up(Heap* h, intp_t pos) noexcept nogil:
    # heapq._siftup: carry the smaller child up to a leaf, then sift the item
    # down from there.
    cdef intp_t end = h.size, start = pos, child
    cdef Edge item = h.items[pos]
    child = 2 * pos + 1
    while child < end:
        if child + 1 < end and not edge_lt(h, h.items[child], h.items[child + 1]):
            child += 1
        h.items[pos] = h.items[child]
        pos = child
        child = 2 * pos + 1
    h.items[pos] = item
    sift_down(h, start, pos)


cdef int heap_push(Heap* h, Edge e) except -1 nogil:
    heap_reserve(h, h.size + 1)
    h.items[h.size] = e
    h.size += 1
    sift_down(h, 0, h.size - 1)
    return 0


cdef Edge heap_pop(Heap* h) noexcept nogil:
    cdef Edge last, top
    h.size -= 1
    last = h.items[h.size]
    if h.size == 0:
        return last
    top = h.items[0]
    h.items[0] = last
    sift_up(h, 0)
    return top


cdef void heapify(Heap* h) noexcept nogil:
    cdef intp_t i
    for i in range(h.size // 2 - 1, -1, -1):
        sift_up(h, i)


###############################################################################
# Growable lists of neighbours (node ids, and a distance for complete/average)


cdef struct Neighbours:
    intp_t* node
    double* dist
    intp_t size
    intp_t capacity


cdef int nb_append(Neighbours* nb, intp_t node, double dist, bint with_dist) except -1 nogil:
    cdef intp_t capacity
    if nb.size == nb.capacity:
        capacity = max(4, 2 * nb.capacity)
        nb.node = <intp_t*> realloc(nb.node, capacity * sizeof(intp_t))
        if nb.node == NULL:
            with gil:
                raise MemoryError()
        if with_dist:
            nb.dist = <double*> realloc(nb.dist, capacity * sizeof(double))
            if nb.dist == NULL:
                with gil:
                    raise MemoryError()
        nb.capacity = capacity
    nb.node[nb.size] = node
    if with_dist:
        nb.dist[nb.size] = dist
    nb.size += 1
    return 0


cdef void nb_clear(Neighbours* nb) noexcept nogil:
    free(nb.node)
    free(nb.dist)
    nb.node = NULL
    nb.dist = NULL
    nb.size = 0
    nb.capacity = 0


cdef Neighbours* nb_new_array(intp_t n) except NULL:
    cdef Neighbours* lists = <Neighbours*> malloc(max(n, 1) * sizeof(Neighbours))
    cdef intp_t i
    if lists == NULL:
        raise MemoryError()
    for i in range(n):
        lists[i].node = NULL
        lists[i].dist = NULL
        lists[i].size = 0
        lists[i].capacity = 0
    return lists


cdef void nb_free_array(Neighbours* lists, intp_t n) noexcept nogil:
    cdef intp_t i
    if lists == NULL:
        return
    for i in range(n):
        nb_clear(&lists[i])
    free(lists)


###############################################################################
# Ward


cdef inline double ward_increase(const double[::1] size, const double[:, ::1] sums,
                                 intp_t r, intp_t c) noexcept nogil:
    # |r||c| / (|r|+|c|) ||mean_r - mean_c||^2, in scikit-learn's order of
    # operations (compute_ward_dist), so that equal increases stay equal.
    cdef double n = (size[r] * size[c]) / (size[r] + size[c])
    cdef double acc = 0.0, diff
    cdef intp_t f
    for f in range(sums.shape[1]):
        diff = sums[r, f] / size[r] - sums[c, f] / size[c]
        acc += diff * diff
    return acc * n


cdef inline intp_t find_root(intp_t[::1] root, intp_t x) noexcept nogil:
    # The live cluster holding node x (path halving).
    while root[x] != x:
        root[x] = root[root[x]]
        x = root[x]
    return x


def ward_graph(
    const floating[:, ::1] X,
    const intp_t[::1] indptr,
    const intp_t[::1] indices,
    double[::1] distances,
    intp_t[:, ::1] children,
    intp_t[::1] parent,
):
    """Ward agglomeration along the edges of a connected graph, up to
    ``children.shape[0]`` merges (all n_samples - 1, or fewer to stop early at
    n_samples - children.shape[0] clusters).

    Parameters
    ----------
    X : (n_samples, n_features)        # IN the samples (summed in float64)
    indptr, indices : CSR structure    # IN symmetric graph, sorted indices
    distances : (n_merges,)            # OUT the increase of inertia of each
                                       #     merge (the caller takes sqrt(2 x))
    children : (n_merges, 2)           # OUT the merged nodes, smaller id first
    parent : (n_samples + n_merges,)   # OUT parent of each node (itself when
                                       #     not merged)
    """
    cdef intp_t n_samples = X.shape[0], n_features = X.shape[1]
    cdef intp_t n_merges = children.shape[0]
    cdef intp_t n_nodes = n_samples + n_merges
    cdef double[::1] size = np.zeros(n_nodes)
    cdef double[:, ::1] sums = np.zeros((n_nodes, n_features))
    cdef intp_t[::1] root = np.arange(n_nodes, dtype=np.intp)
    cdef intp_t[::1] seen = np.full(n_nodes, -1, dtype=np.intp)
    cdef unsigned char[::1] live = np.ones(n_nodes, dtype=np.uint8)
    cdef Neighbours* adjacency = nb_new_array(n_nodes)
    cdef Heap heap
    cdef Edge e
    cdef intp_t i, j, k, p, f, node, head, side
    cdef Neighbours* merged
    cdef Poll poll
    poll_init(&poll)
    heap.items = NULL
    heap.size = 0
    heap.capacity = 0
    heap.lexicographic = True
    try:
        with nogil:
            for i in range(n_samples):
                size[i] = 1.0
                for f in range(n_features):
                    sums[i, f] = X[i, f]
            for i in range(n_nodes):
                parent[i] = i
            for i in range(n_samples):
                for p in range(indptr[i], indptr[i + 1]):
                    nb_append(&adjacency[i], indices[p], 0.0, False)
                    if indices[p] < i:
                        heap_reserve(&heap, heap.size + 1)
                        heap.items[heap.size].weight = ward_increase(size, sums, i, indices[p])
                        heap.items[heap.size].a = i
                        heap.items[heap.size].b = indices[p]
                        heap.size += 1
            heapify(&heap)
            for k in range(n_samples, n_nodes):
                while True:
                    e = heap_pop(&heap)
                    if live[e.a] and live[e.b]:
                        break
                i = e.a
                j = e.b
                parent[i] = k
                parent[j] = k
                root[i] = k
                root[j] = k
                live[i] = 0
                live[j] = 0
                # scikit-learn stores (b, a): the older node first.
                children[k - n_samples, 0] = j
                children[k - n_samples, 1] = i
                distances[k - n_samples] = e.weight
                size[k] = size[i] + size[j]
                for f in range(n_features):
                    sums[k, f] = sums[i, f] + sums[j, f]
                # The live clusters next to i or j, each once, are k's
                # neighbours.
                seen[k] = k
                merged = &adjacency[k]
                for side in range(2):
                    node = i if side == 0 else j
                    for p in range(adjacency[node].size):
                        head = find_root(root, adjacency[node].node[p])
                        if seen[head] != k:
                            seen[head] = k
                            nb_append(merged, head, 0.0, False)
                nb_clear(&adjacency[i])
                nb_clear(&adjacency[j])
                for p in range(merged.size):
                    head = merged.node[p]
                    nb_append(&adjacency[head], k, 0.0, False)
                    e.weight = ward_increase(size, sums, k, head)
                    e.a = k
                    e.b = head
                    heap_push(&heap, e)
                if poll_signals(&poll, <double> merged.size * (n_features + 16)):
                    break
    finally:
        free(heap.items)
        nb_free_array(adjacency, n_nodes)
    raise_if_stopped(&poll)


###############################################################################
# Complete and average


def linkage_graph(
    const intp_t[::1] indptr,
    const intp_t[::1] indices,
    const double[::1] weights,
    bint average,
    double[::1] distances,
    intp_t[:, ::1] children,
    intp_t[::1] parent,
):
    """Complete (max) or average agglomeration along the edges of a
    connected graph, up to ``children.shape[0]`` merges.

    The new cluster's distance to a neighbour of both merged clusters is the
    max (complete) or the size-weighted mean (average) of their two edges; to
    a neighbour of one of them, that one's edge (scikit-learn's
    linkage_tree: "average" along a graph is not the mean over all pairs).

    Parameters
    ----------
    indptr, indices : CSR structure   # IN symmetric graph without its
                                      #     diagonal, sorted indices
    weights : (n_edges,)              # IN the distance of each stored edge
    average : bool                    # IN average, else complete
    distances : (n_merges,)           # OUT the distance of each merge
    children : (n_merges, 2)          # OUT the merged nodes, smaller id first
    parent : (n_samples + n_merges,)  # OUT parent of each node
    """
    cdef intp_t n_samples = indptr.shape[0] - 1
    cdef intp_t n_merges = children.shape[0]
    cdef intp_t n_nodes = n_samples + n_merges
    cdef intp_t[::1] live = np.ones(n_nodes, dtype=np.intp)
    cdef Neighbours* adjacency = nb_new_array(n_nodes)
    cdef Heap heap
    cdef Edge e
    cdef intp_t i, j, k, p, q, node, n_i, n_j
    cdef double n_out, d
    cdef Neighbours* a
    cdef Neighbours* b
    cdef Neighbours* out
    cdef Poll poll
    poll_init(&poll)
    heap.items = NULL
    heap.size = 0
    heap.capacity = 0
    heap.lexicographic = False
    try:
        with nogil:
            for i in range(n_nodes):
                parent[i] = i
            for i in range(n_samples):
                for p in range(indptr[i], indptr[i + 1]):
                    nb_append(&adjacency[i], indices[p], weights[p], True)
                    if indices[p] < i:
                        heap_reserve(&heap, heap.size + 1)
                        heap.items[heap.size].weight = weights[p]
                        heap.items[heap.size].a = i
                        heap.items[heap.size].b = indices[p]
                        heap.size += 1
            heapify(&heap)
            for k in range(n_samples, n_nodes):
                while True:
                    e = heap_pop(&heap)
                    if live[e.a] and live[e.b]:
                        break
                i = e.a
                j = e.b
                distances[k - n_samples] = e.weight
                parent[i] = k
                parent[j] = k
                children[k - n_samples, 0] = j
                children[k - n_samples, 1] = i
                n_i = live[i]
                n_j = live[j]
                live[k] = n_i + n_j
                live[i] = 0
                live[j] = 0
                n_out = <double> (n_i + n_j)
                # Merge the two sorted lists, dropping dead nodes.
                a = &adjacency[i]
                b = &adjacency[j]
                out = &adjacency[k]
                p = 0
                q = 0
                while p < a.size or q < b.size:
                    if q >= b.size or (p < a.size and a.node[p] < b.node[q]):
                        node = a.node[p]
                        d = a.dist[p]
                        p += 1
                    elif p >= a.size or b.node[q] < a.node[p]:
                        node = b.node[q]
                        d = b.dist[q]
                        q += 1
                    else:
                        node = a.node[p]
                        if average:
                            d = (n_i * a.dist[p] + n_j * b.dist[q]) / n_out
                        else:
                            d = fmax(a.dist[p], b.dist[q])
                        p += 1
                        q += 1
                    if live[node]:
                        nb_append(out, node, d, True)
                nb_clear(a)
                nb_clear(b)
                for p in range(out.size):
                    node = out.node[p]
                    nb_append(&adjacency[node], k, out.dist[p], True)
                    e.weight = out.dist[p]
                    e.a = k
                    e.b = node
                    heap_push(&heap, e)
                if poll_signals(&poll, <double> out.size * 32):
                    break
    finally:
        free(heap.items)
        nb_free_array(adjacency, n_nodes)
    raise_if_stopped(&poll)


###############################################################################
# Passes over a tree


def cut_labels(
    const intp_t[:, ::1] children,
    const intp_t[::1] cut_nodes,
    intp_t[::1] labels,
):
    """labels[s] = c where cut_nodes[c] is the ancestor of sample s (or s)
    among the cut nodes, which partition the leaves.

    Parameters
    ----------
    children : (n_samples - 1, 2)  # IN the tree
    cut_nodes : (n_clusters,)      # IN the roots of the clusters
    labels : (n_samples,)          # OUT
    """
    cdef intp_t n_samples = children.shape[0] + 1, m, c, node
    cdef intp_t[::1] node_label = np.full(2 * n_samples - 1, -1, dtype=np.intp)
    for c in range(cut_nodes.shape[0]):
        node_label[cut_nodes[c]] = c
    with nogil:
        for m in range(n_samples - 2, -1, -1):
            c = node_label[n_samples + m]
            if c >= 0:
                node_label[children[m, 0]] = c
                node_label[children[m, 1]] = c
        for node in range(n_samples):
            labels[node] = node_label[node]


def forest_heads(intp_t[::1] parent):
    """Replace every node's parent by the root of its tree (in place).

    Parameters
    ----------
    parent : (n_nodes,)   # INOUT parent[c] > c, or c for a root
    """
    cdef intp_t node
    with nogil:
        for node in range(parent.shape[0] - 1, -1, -1):
            parent[node] = parent[parent[node]]


def subtree_sizes(const intp_t[:, ::1] children, intp_t[::1] counts):
    """counts[n_samples + m] = the samples below the node of merge m.

    Parameters
    ----------
    children : (n_samples - 1, 2)   # IN the tree
    counts : (2 n_samples - 1,)     # INOUT ones for the samples on entry
    """
    cdef intp_t n_samples = children.shape[0] + 1, m
    with nogil:
        for m in range(n_samples - 1):
            counts[n_samples + m] = counts[children[m, 0]] + counts[children[m, 1]]
