module github.com/imgmgr/imgmgr

go 1.26.8
