/* placeholder: mlp */
