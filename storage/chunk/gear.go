package chunk

// gearSeed seeds the generator of the gear table. It is the ASCII text
// "Strongro" read as a big-endian integer. Changing it changes every chunk
// boundary: it is part of the on-disk format.
const gearSeed uint64 = 0x5374726f6e67726f

// gear is the gear hash table; see the package documentation.
var gear = makeGear(gearSeed)

// makeGear fills the gear table with successive outputs of SplitMix64 started
// at seed. SplitMix64 is a fixed, well-known generator, so the table never
// depends on the Go version or on math/rand.
func makeGear(seed uint64) [256]uint64 {
	var t [256]uint64
	s := seed
	for i := range t {
		s += 0x9e3779b97f4a7c15
		z := s
		z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
		z = (z ^ z>>27) * 0x94d049bb133111eb
		t[i] = z ^ z>>31
	}
	return t
}
