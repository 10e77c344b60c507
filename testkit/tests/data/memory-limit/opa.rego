package guardrails.memory_limit

deny contains msg if {
	some c in input.spec.containers
	limit := c.resources.limits.memory
	units.parse(limit) > units.parse("2Gi")
	msg := sprintf("container %s memory limit %s exceeds 2Gi", [c.name, limit])
}

deny contains "every container needs resources" if {
	some c in input.spec.containers
	not c.resources
}
