// placeholder until the launch/ layer lands
