package crdt

// segBits sets the block size of a segs: 512 elements.
const segBits = 9

// segs is an append-only vector kept in fixed-size blocks: appending never copies what
// is already there, so a history of n records costs n records of memory, not the
// several times more that repeated slice growth allocates.
type segs[T any] struct {
	blocks [][]T
	n      int
}

// Len returns the number of elements.
func (v *segs[T]) Len() int { return v.n }

// At returns a pointer to element i.
func (v *segs[T]) At(i int) *T { return &v.blocks[i>>segBits][i&(1<<segBits-1)] }

// Last returns a pointer to the last element; v must not be empty.
func (v *segs[T]) Last() *T { return v.At(v.n - 1) }

// Append adds x at the end.
func (v *segs[T]) Append(x T) {
	if v.n&(1<<segBits-1) == 0 {
		size := 1 << segBits
		if v.n == 0 {
			size = 8 // most sequences are small
		}
		v.blocks = append(v.blocks, make([]T, 0, size))
	}
	b := &v.blocks[len(v.blocks)-1]
	if len(*b) == cap(*b) {
		nb := make([]T, len(*b), min(2*cap(*b), 1<<segBits))
		copy(nb, *b)
		*b = nb
	}
	*b = append(*b, x)
	v.n++
}

// Clone returns an independent copy of v.
func (v *segs[T]) Clone() segs[T] {
	c := segs[T]{n: v.n, blocks: make([][]T, len(v.blocks))}
	for i, b := range v.blocks {
		c.blocks[i] = append(make([]T, 0, cap(b)), b...)
	}
	return c
}

// Search returns the smallest i in [0, Len) for which f(element i) is true, or Len,
// assuming f is false then true along the vector.
func (v *segs[T]) Search(f func(x *T) bool) int {
	lo, hi := 0, v.n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if !f(v.At(m)) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// All returns the elements in order, as block slices.
func (v *segs[T]) All() [][]T { return v.blocks }
