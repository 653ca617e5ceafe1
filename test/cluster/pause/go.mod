module reseed.dev/test/cluster/pause

go 1.26
