module connector-service.dev/connector

go 1.19
