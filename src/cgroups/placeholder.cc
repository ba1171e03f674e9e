// placeholder until the cgroups/ layer lands
