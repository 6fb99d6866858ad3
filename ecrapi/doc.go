// Package ecrapi will serve the Amazon ECR JSON 1.1 API (X-Amz-Target
// AmazonEC2ContainerRegistry_V20150921.*) at POST / beside the registry
// (issue 3).
package ecrapi
