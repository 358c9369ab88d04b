/* placeholder: rng */
