package geo

// DistHeap is a binary min-heap of (distance, index) pairs, for Dijkstra
// searches and nearest-first orders. Equal distances pop in index order, so
// results do not depend on insertion order. The zero value is empty.
type DistHeap []distItem

type distItem struct {
	d float64
	v int32
}

func (h DistHeap) less(i, j int) bool {
	return h[i].d < h[j].d || (h[i].d == h[j].d && h[i].v < h[j].v)
}

// Len is the number of items.
func (h DistHeap) Len() int { return len(h) }

// Push adds index v at distance d.
func (h *DistHeap) Push(d float64, v int32) {
	*h = append(*h, distItem{d, v})
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if !s.less(i, p) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

// Pop removes and returns the nearest item. The heap must not be empty.
func (h *DistHeap) Pop() (float64, int32) {
	s := *h
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	s = s[:last]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(s) && s.less(l, m) {
			m = l
		}
		if r < len(s) && s.less(r, m) {
			m = r
		}
		if m == i {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top.d, top.v
}
