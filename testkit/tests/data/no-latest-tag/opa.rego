package guardrails.no_latest_tag

containers contains c if some c in input.spec.containers
containers contains c if some c in input.spec.initContainers

deny contains msg if {
	some c in containers
	not pinned(c.image)
	msg := sprintf("container %s uses %s, which is not pinned", [c.name, c.image])
}

pinned(image) if {
	contains(image, ":")
	not endswith(image, ":latest")
}
