package vault

import "fmt"

// Layout is the erasure-coding layout: K data shards and M parity shards,
// one per disk.
type Layout struct {
	K, M int
}

func (l Layout) String() string { return fmt.Sprintf("%d+%d", l.K, l.M) }

// Disks is the number of disks the layout spans.
func (l Layout) Disks() int { return l.K + l.M }

// Efficiency is the fraction of raw capacity that holds data.
func (l Layout) Efficiency() float64 { return float64(l.K) / float64(l.K+l.M) }

// ChooseLayout picks the layout for n disks. It returns a warning for
// layouts that protect less than an operator of a backup appliance should
// accept, and an error when n is out of range.
//
//	disks   layout  survives
//	1       1+0     nothing: a single disk failure loses everything
//	2       1+1     one lost disk (a mirror)
//	3       2+1     one lost disk
//	4       2+2     two lost disks
//	5       3+2     two
//	6       4+2     two
//	7,8     5+2,6+2 two
//	9-11    6+3..8+3 three
//	12      8+4     four
func ChooseLayout(n int) (Layout, string, error) {
	switch {
	case n < 1:
		return Layout{}, "", fmt.Errorf("a vault needs at least one disk")
	case n > 12:
		return Layout{}, "", fmt.Errorf("%d disks: at most 12 disks per vault are supported", n)
	case n == 1:
		return Layout{1, 0}, "1 disk gives no redundancy: losing the disk loses every backup; use 4 or more disks", nil
	case n <= 3:
		return Layout{n - 1, 1}, fmt.Sprintf("%d disks give layout %d+1, which survives only one lost disk; 4 or more disks survive two", n, n-1), nil
	case n <= 8:
		return Layout{n - 2, 2}, "", nil
	case n <= 11:
		return Layout{n - 3, 3}, "", nil
	default:
		return Layout{8, 4}, "", nil
	}
}
