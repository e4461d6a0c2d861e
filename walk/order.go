package walk

import "math"

// ExactMax is the largest walk Order solves exactly (Held–Karp is
// O(2^n n^2): 12 stops take about a millisecond).
const ExactMax = 12

// heldKarpMax bounds HeldKarp's table (2^16 x 16 entries, 8 MB).
const heldKarpMax = 16

// heuristicStarts is how many nearest-neighbour starts Heuristic improves;
// more finds slightly shorter routes at a linear cost.
const heuristicStarts = 12

// eps ignores improvements below a millimetre, so float noise cannot loop.
const eps = 1e-3

// Order returns a short open path (start and end anywhere) through every
// point of the distance matrix m: the exact optimum for up to ExactMax
// points, else Heuristic's.
func Order(m [][]float64) []int {
	if len(m) <= ExactMax {
		return HeldKarp(m)
	}
	return Heuristic(m)
}

// HeldKarp returns a shortest open path through every point of m by
// dynamic programming over subsets. It needs 2^n n memory, so above
// heldKarpMax points it answers Heuristic's path instead.
func HeldKarp(m [][]float64) []int {
	n := len(m)
	if n <= 2 {
		return identity(n)
	}
	if n > heldKarpMax {
		return Heuristic(m)
	}
	full := 1<<n - 1
	dp := make([]float64, (full+1)*n) // dp[mask*n+j]: shortest path over mask ending at j
	from := make([]int8, (full+1)*n)
	for i := range dp {
		dp[i] = math.Inf(1)
	}
	for j := range n {
		dp[(1<<j)*n+j] = 0
		from[(1<<j)*n+j] = -1
	}
	for mask := 1; mask <= full; mask++ {
		for j := range n {
			cur := dp[mask*n+j]
			if mask&(1<<j) == 0 || math.IsInf(cur, 1) {
				continue
			}
			for k := range n {
				if mask&(1<<k) != 0 {
					continue
				}
				nm := mask | 1<<k
				if d := cur + m[j][k]; d < dp[nm*n+k] {
					dp[nm*n+k] = d
					from[nm*n+k] = int8(j)
				}
			}
		}
	}
	end := 0
	for j := 1; j < n; j++ {
		if dp[full*n+j] < dp[full*n+end] {
			end = j
		}
	}
	path := make([]int, n)
	mask, j := full, end
	for i := n - 1; i >= 0; i-- {
		path[i] = j
		pj := int(from[mask*n+j])
		mask &^= 1 << j
		j = pj
	}
	return path
}

func identity(n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	return p
}

// NearestNeighbour is the open path that starts at start and always goes
// to the nearest unvisited point: the baseline the walk order is measured
// against.
func NearestNeighbour(m [][]float64, start int) []int {
	n := len(m)
	if n == 0 {
		return nil
	}
	seen := make([]bool, n)
	path := []int{start}
	seen[start] = true
	for cur := start; len(path) < n; {
		next := -1
		for k := range n {
			if !seen[k] && (next < 0 || m[cur][k] < m[cur][next]) {
				next = k
			}
		}
		seen[next] = true
		path = append(path, next)
		cur = next
	}
	return path
}

// Heuristic returns a short open path through every point of m: nearest
// neighbour from several starts, each improved by 2-opt and Or-opt until
// neither finds a shorter path, the shortest kept. An open path is a cycle
// through one extra point at distance 0 from all, so the cycle moves apply
// unchanged.
func Heuristic(m [][]float64) []int {
	n := len(m)
	if n <= 3 {
		return HeldKarp(m)
	}
	starts := min(n, heuristicStarts)
	var best []int
	bestLen := math.Inf(1)
	for s := range starts {
		p := Improve(m, NearestNeighbour(m, s*n/starts))
		if l := PathLength(m, p); l < bestLen-eps {
			best, bestLen = p, l
		}
	}
	return best
}

// Improve applies 2-opt and Or-opt moves to the open path until none
// shortens it, and returns the new path (path is not modified).
func Improve(m [][]float64, path []int) []int {
	n := len(path)
	if n <= 3 {
		return append([]int(nil), path...)
	}
	// t is the cycle dummy, path...; the dummy (index n) stays at t[0].
	t := make([]int, 0, n+1)
	t = append(t, n)
	t = append(t, path...)
	d := func(a, b int) float64 {
		if a == n || b == n {
			return 0
		}
		return m[a][b]
	}
	for twoOpt(t, d) || orOpt(t, d) {
	}
	return append([]int(nil), t[1:]...)
}

// twoOpt reverses segments t[i+1..j] while that shortens the cycle.
func twoOpt(t []int, d func(a, b int) float64) bool {
	N := len(t)
	any := false
	for improved := true; improved; {
		improved = false
		for i := 0; i < N-2; i++ {
			a, b := t[i], t[i+1]
			dab := d(a, b)
			for j := i + 2; j < N; j++ {
				c, e := t[j], t[(j+1)%N]
				if e == a {
					continue
				}
				if delta := d(a, c) + d(b, e) - dab - d(c, e); delta < -eps {
					for l, r := i+1, j; l < r; l, r = l+1, r-1 {
						t[l], t[r] = t[r], t[l]
					}
					improved, any = true, true
					b, dab = t[i+1], d(a, t[i+1])
				}
			}
		}
	}
	return any
}

// orOpt moves segments of 1 to 3 points (either way round) to the edge
// where they add least, while that shortens the cycle.
func orOpt(t []int, d func(a, b int) float64) bool {
	N := len(t)
	any := false
	seg := make([]int, 0, 3)
	rest := make([]int, 0, N)
	for improved := true; improved; {
		improved = false
		for L := 1; L <= 3 && !improved; L++ {
			for i := 1; i+L <= N && !improved; i++ {
				s0, sL := t[i], t[i+L-1]
				prev, next := t[i-1], t[(i+L)%N]
				gain := d(prev, s0) + d(sL, next) - d(prev, next)
				if gain <= eps {
					continue
				}
				bestP, bestAdd, rev := -1, gain-eps, false
				for p := 0; p < N; p++ {
					q := (p + 1) % N
					if p >= i-1 && p <= i+L-1 {
						continue
					}
					u, v := t[p], t[q]
					base := d(u, v)
					if add := d(u, s0) + d(sL, v) - base; add < bestAdd {
						bestP, bestAdd, rev = p, add, false
					}
					if add := d(u, sL) + d(s0, v) - base; add < bestAdd {
						bestP, bestAdd, rev = p, add, true
					}
				}
				if bestP < 0 {
					continue
				}
				seg = append(seg[:0], t[i:i+L]...)
				if rev {
					for l, r := 0, L-1; l < r; l, r = l+1, r-1 {
						seg[l], seg[r] = seg[r], seg[l]
					}
				}
				after := t[bestP]
				rest = rest[:0]
				for k, x := range t {
					if k >= i && k < i+L {
						continue
					}
					rest = append(rest, x)
					if x == after {
						rest = append(rest, seg...)
					}
				}
				copy(t, rest)
				improved, any = true, true
			}
		}
	}
	return any
}
