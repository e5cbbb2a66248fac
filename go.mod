module github.com/apiguard/apiguard

go 1.26
