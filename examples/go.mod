module github.com/apiguard/apiguard/examples

go 1.26

replace github.com/apiguard/apiguard => ../
