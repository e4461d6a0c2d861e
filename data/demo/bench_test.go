package demo_test

import (
	"io"
	"testing"

	"github.com/kommunity/kommunity/data/demo"
	"github.com/kommunity/kommunity/geo"
)

// The scale configuration of the benchmarks: a national-programme-sized
// municipality of a million addresses in 2,000 parishes.
var benchConfig = demo.Config{Seed: 1, Areas: 2000, Addresses: 1_000_000}

// BenchmarkEachAddress1M is the baseline: generating the addresses alone.
func BenchmarkEachAddress1M(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		if err := demo.EachAddress(benchConfig, func(geo.AddressRecord) error { n++; return nil }); err != nil {
			b.Fatal(err)
		}
		if n != benchConfig.Addresses {
			b.Fatalf("%d addresses", n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(benchConfig.Addresses), "ns/address")
}

// BenchmarkWriteAddressesCSV1M writes a million rows; compare with
// BenchmarkEachAddress1M for the cost of the CSV itself.
func BenchmarkWriteAddressesCSV1M(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if err := demo.WriteAddressesCSV(io.Discard, benchConfig); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(benchConfig.Addresses), "ns/address")
}

func BenchmarkGenerateAreas2000(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		demo.GenerateAreas(benchConfig)
	}
}

func BenchmarkGenerateDefault(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		demo.Generate(demo.Config{})
	}
}
