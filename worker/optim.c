/* placeholder: optim */
